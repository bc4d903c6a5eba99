console.log("hatago");
